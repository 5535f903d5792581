"""weightdyn: training of small neural networks as a dynamical system."""
