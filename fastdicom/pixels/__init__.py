"""Pixel data: decoding to numpy arrays, frame access, colour and LUT functions."""
