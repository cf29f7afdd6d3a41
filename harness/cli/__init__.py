"""The thin `impasse` command line: parse, call a library function, render with rich."""
