"""Stage 6, the maps (rules in ``workflow/rules/explain.smk``).

Reads a model's ``best.pt``, the segment store and the model's test predictions. Writes
``results/<run>/maps/<experiment>/<model>.h5``: for every test segment and method, the signed
map on the method's own grid of cells, with each cell's rows (Hz) and frames (seconds).

=======  ============================================================================
module   what
=======  ============================================================================
methods  the CAM methods, batched (CAM, Grad-CAM, Grad-CAM++, HiResCAM, LayerCAM, Score-CAM)
maps     the map file: its writer and its one reader
grid     a stage's cells on the spectrogram grid; a map's frequency profile inside a vowel
=======  ============================================================================
"""
