"""Public randomness for draws: which chain new releases use, and fetching a release's round from relays
(``rounds``), each relay asked within one deadline for its whole answer (``relay_client``)."""
