"""`cadres` command line (click): the group is in rag.cli.main, each subcommand in its own module,
all of them importing only rag.cli.common, so no CLI module imports another that imports it back."""
