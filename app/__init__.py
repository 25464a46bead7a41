"""backprop-live: watch a neural network learn, live."""
