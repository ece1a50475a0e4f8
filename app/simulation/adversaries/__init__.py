"""Resellers who adapt: the strategies they may play and the best-response dynamic that picks one a week."""
