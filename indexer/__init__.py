"""Write path of the report assistant: parse → chunk → embed → store, plus the one index reader."""
