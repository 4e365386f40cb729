"""The mechanistic action-graph formalism: catalogue, model, text parser/writer, checks, hashing."""
from .catalogue import MEASURABLE_OUTPUTS, Primitive, catalogue, catalogue_markdown, catalogue_version, closest_primitive
from .checks import check_explanation, validate_parsed, validate_text
from .findings import CODES, Finding
from .hashing import claim_hash, normalise_text
from .model import Edge, Explanation, Node, explanation_json_schema
from .parser import ParseResult, node_to_text, parse_text, to_text
from .typed import ClaimTypeError, entity_values, typed_claim

__all__ = [
    "CODES", "ClaimTypeError", "MEASURABLE_OUTPUTS", "Edge", "Explanation", "Finding", "Node", "ParseResult", "Primitive",
    "catalogue", "catalogue_markdown", "catalogue_version", "check_explanation", "claim_hash",
    "closest_primitive", "entity_values", "explanation_json_schema", "node_to_text", "normalise_text", "parse_text",
    "to_text", "typed_claim", "validate_parsed", "validate_text",
]
