"""The Textual shell. Only this package imports Textual."""
