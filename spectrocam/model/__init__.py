"""Stage 5, the classifiers (rules in ``workflow/rules/model.smk``).

Reads a segment store and ``splits/splits.tsv``. Writes, per experiment and model (``seed<N>``,
``shuffled``), ``results/<run>/models/<experiment>/<model>/best.pt`` (the weights of the epoch
selected on validation, with what :func:`spectrocam.model.network.load_model` needs),
``history.tsv`` and ``checkpoint/`` (resumable training), and the test figures
``evaluation/<experiment>/<model>/`` (metrics.json, confusion.csv, per_class.csv,
predictions.tsv); ``evaluation/<experiment>/references.json`` holds the classifiers on the
formants alone.

==========  ===========================================================================
module      what
==========  ===========================================================================
network     the ResNet for spectrograms (restrided, dilated), building and loading it
training    the training loop: balanced epochs, validation, checkpoints, resumption
optim       Adam and its learning-rate schedule (constant or one-cycle)
augment     time shifts and gains of training batches (never the frequency axis)
inference   a trained model and its splits for later jobs; batched predictions
batchnorm   BatchNorm statistics re-estimated on training data; collapse detection
checkpoint  fingerprints, random states and the saved state of a resumable run
device      CPU or GPU, threads, autocast dtypes
sampling    class-balanced epochs, class weights, shuffled labels, per-class subsets
evaluation  test metrics per class and per token subset, with intervals
metrics     accuracy, macro-F1, confusion matrices and their bootstrap intervals
references  the majority class and the LDA on formants that a network is compared with
==========  ===========================================================================
"""
