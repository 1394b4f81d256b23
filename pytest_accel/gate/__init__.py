"""The performance gate: a run's timings against a baseline's, with verdicts that do not cry wolf.

``stats`` (levels, intervals, verdicts), ``baseline`` (indexing saved results), ``machines``
(fingerprint differences), ``comparison`` (a whole run against a baseline), ``sampling`` (how
``bench`` keeps sampling until the verdict is decided), ``replicates`` (several runs of the baseline, and
each benchmark's run-to-run noise learned from them), ``sources`` (where the baseline comes from: files,
or a history's last runs), ``memory`` (the memory gate: peaks compared exactly).
"""
