"""One module per job: ``add_arguments(parser)`` and ``run(args) -> exit code``.

Modules import paddle only inside ``run`` so ``--help`` is instant.
"""
