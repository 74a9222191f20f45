"""twinflow trainer: fine-tuning (TRL SFT + PEFT LoRA/QLoRA) and generation for the GPU worker.

Run as ``python -m twinflow_trainer {train,generate,validate-config} --config CONFIG.json``.
"""

__version__ = "0.1.0"
