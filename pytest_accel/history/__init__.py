"""The performance history of a branch: runs kept in an SQLite file, change points found in each
benchmark's series, and the trend shown as a table or charts. A gate compares one change with its base;
the history sees what many small changes did together."""
