"""Public randomness for draws: which chain new releases use, and fetching a release's round from relays
(``rounds``)."""
