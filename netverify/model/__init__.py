"""The cluster model every policy kind is translated into; plain frozen dataclasses, no I/O, no numpy."""
