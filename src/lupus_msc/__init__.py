"""lupus-msc: a mesenchymal-stromal-cell therapy programme for SLE, from screening to outcome."""

__version__ = "0.1.0"
