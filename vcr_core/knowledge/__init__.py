"""Offline knowledge sources shared by the verifiers and the explainer (Gene Ontology annotations,
gene aliases): see :mod:`.orgdb`."""
