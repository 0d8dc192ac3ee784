"""course_lib: the small library behind the course's notebooks.

Modules, one concern each:
- `data`: embedded datasets (digits, toy 1-D, shapes, waveforms, strokes) and MNIST loaders
- `checks`: dependency maps, the autoregressive property, normalization, sampler agreement
- `viz`: figures (image grids, masks, connectivity, receptive fields, curves, strokes, waveforms)
- `widgets`: the ipywidgets explorers used in lectures, each with a pure function behind it
- `train`: one seeded training loop with early stopping, and the KL-annealing schedule
- `models`: the reference implementation of every model in the course, one module per idea
"""
__version__ = "0.1.0"
