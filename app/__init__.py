"""Answer generation with verified citations, follow-up rewriting and not-found decisions for the chat tab."""
