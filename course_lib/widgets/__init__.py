"""ipywidgets explorers used in the lectures, one module each. Every explorer is a thin layer over a
pure function (tested without a browser) that computes what the widget draws."""
