"""Reference implementations of the course's models, one module per idea.

Lectures build each idea inline first and then train the model from here; benchmarks use the same
code. During grading the autograder hides this package from submissions.

    made, nade, baselines, rnn          binary vectors (lectures 2-4)
    pixelcnn, gated_pixelcnn            masked convolutions over images (lectures 5-6)
    logistic_mixture, pixelcnn_pp       discretized logistic mixtures (lectures 1, 7)
    attention                           a causal transformer with a key/value cache (lecture 8)
    tcn, wavenet                        causal 1-D convolutions, WaveNet and its cached generator (lecture 9)
    gaussian, stroke_output, sequence   Gaussian helpers, stroke output distributions, shared sequence code
    handwriting, vrnn, stcn             the handwriting models (lectures 10-11)

Every model module checks itself: `python -m course_lib.models.<name>` prints its dependency-map
verdict (`course_lib.models.selfcheck`) and exits with status 1 when the check fails.
"""
