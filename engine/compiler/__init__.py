"""The compiler: validated buyer-file models in, frozen plans out (runs once per file)."""
