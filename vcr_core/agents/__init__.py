"""Agents: the report agent and the explanation agent, with prompts shipped as package data."""
from .agents import CallOptions, ExplainResult, explain, generate_report
from .pipeline import GenerationConfig, GenerationOutcome, generate_for_record
from .prompts import prompt_version, question_text, render

__all__ = ["CallOptions", "ExplainResult", "GenerationConfig", "GenerationOutcome", "explain",
           "generate_for_record", "generate_report", "prompt_version", "question_text", "render"]
