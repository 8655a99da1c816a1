"""Stage 1: files, directories, standard input or Python objects -> positioned documents -> the model."""
