"""Stage 7, what the models and their maps show about the formants (rules in
``workflow/rules/evidence.smk``; the verdict's table is written by ``report.smk``).

Reads the maps, the segment stores, ``formants/formants.tsv`` (and ``ceilings.tsv``), the models
and their predictions. Writes ``results/<run>/agreement/``, ``evidence/<experiment>/``,
``sensitivity/``, ``sanity/``, ``causal/`` and ``errors/`` (one table per experiment and model,
keyed by ``phone_id``, and their summaries), and ``report/verdict.tsv`` and ``tests.tsv``.

==========  ==========================================================================
module      what
==========  ==========================================================================
agreement   a map's share of mass on F1-F3 against chance; peak hits
baselines   profiles that involve no network (spectrum, envelope, prior, class mean)
shares      map share minus the spectrum's share per vowel; the energy-keeping null
ranks       per-token AUC of a map's cue cells; trained minus control model, by utterance
templates   class-contrastive frequency templates of any model's maps
sensitivity the headline recomputed at other half-widths and Praat ceilings
sanity      randomised weights (cascading) and shuffled labels against the trained maps
occlusion   band and control placement, the never-adds-energy fill, batched forward passes
causal      band occlusion with matched controls; deletion curves
errors      misclassified vowels against the formants of their true and predicted class
verdict     the verdict table: Holm families, what each row allows one to say
==========  ==========================================================================
"""
