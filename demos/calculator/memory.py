"""Peak GPU memory of a job, per GPU: what PyTorch keeps alive at the worst moment of a step.

Pure functions, no Gradio. A training step has two candidate peaks, and the calculator takes the
larger (a measured run peaks at one of them; ``MemoryBreakdown.peak_at`` says which):

* **end of the forward pass**: weights + optimizer states + every activation autograd saved for the
  backward pass + the 16-bit weight copies autocast made (saved with them) + the loss's tensors;
* **end of the backward pass**: weights + optimizer states + all the gradients, with (under gradient
  checkpointing) the first layer's recomputed activations.

Gradients and activations never peak together: the backward pass frees a layer's activations as
it creates that layer's gradients. Counting both at once (as we did before, and as many calculators
do) overstates a checkpointed job by ~25%.

How each number was found: the saved tensors of one transformer layer were counted with
``torch.autograd.graph.saved_tensors_hooks`` (transformers 5.24, torch 2.13, CPU; storage
deduplicated), once per model family and precision, and the peak was checked against PyTorch's own
``MemTracker`` run under ``FakeTensorMode`` (``bench/calculator_memory_check.py``, no GPU needed) and
against GPU runs (``bench/calculator_gpu_check.py``, ``bench/results/``). Sources of the parts:
Hugging Face, "Model training anatomy" (weights, gradients, optimizer states); PyTorch's autocast
documentation (weights stay fp32; the 16-bit casts are cached for the forward pass and saved for
backward); Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models"
(activations per layer, checkpointing keeps each layer's input).
"""

from __future__ import annotations

from demos.calculator import tables
from demos.calculator.jobs import (
    GIB,
    Architecture,
    MemoryBreakdown,
    ModelJob,
    architecture_of,
    default_task,
)

# --- Weights, gradients, optimizer ---------------------------------------------------------------
# Full fine-tuning keeps the model in fp32 (4 bytes/param) in both fp32 and mixed precision: PyTorch
# autocast casts each weight to 16 bits as an operation uses it (torch.autocast docs); the 16-bit
# copies live only while the backward pass needs them (WEIGHT_COPY_BYTES). Gradients match the
# weights (fp32, 4 bytes). Optimizer: AdamW two fp32 moments (8), 8-bit AdamW (bitsandbytes) 2,
# SGD with momentum 4 (Hugging Face, "Model training anatomy").
FULL_WEIGHT_BYTES = 4.0
GRADIENT_BYTES = 4.0
OPTIMIZER_BYTES = {"adamw": 8.0, "adamw_8bit": 2.0, "sgd": 4.0}
# Under autocast every matmul weight is cast to 16 bits once per forward pass and the copy is saved
# for the backward pass: 2 bytes per parameter that multiplies (the input embedding is a lookup and
# is not cast). Measured: 1.93 GiB for a 1.1B Llama-style model, exactly 2 x its 1.04 B matmul weights.
WEIGHT_COPY_BYTES = 2.0
# Frozen weights (inference, LoRA's base), stored once: accelerate's estimate-memory uses 4 / 2 / 1 /
# 0.5 bytes per parameter for float32 / float16 / int8 / int4. 4-bit NF4 with double quantisation adds
# 0.127 bits/param of constants (Dettmers et al. 2023, QLoRA, section 3); LLM.int8 one fp32 scale per row.
FROZEN_WEIGHT_BYTES = {"fp32": 4.0, "mixed": 2.0, "int8": 1.0, "4bit": (4 + 0.127) / 8}
# LoRA adapters are trained in fp32 (PEFT's default): 4 bytes weights + 4 gradients + the optimizer.
ADAPTER_BYTES_BEFORE_OPTIMIZER = 8.0
# LoRA targets the attention projections q, k, v, o in every layer (a common default, and the
# setting of our GPU check); r·(d_in + d_out) parameters per adapted matrix (Hu et al. 2021, section 4).
LORA_TARGETS_PER_LAYER = ("q", "k", "v", "o")

# --- Activations saved for the backward pass, bytes per token per layer ------------------------------
# (h, kv, i) coefficients of hidden width h, key/value width kv (= h without grouped-query attention)
# and MLP width i, for a non-gated MLP; counted as described at the top. "full" = trainable weights
# under autocast (fp32 residual stream and norms, 16-bit matmul inputs); "frozen" = LoRA / QLoRA on a
# 16-bit base, whose frozen linears keep no input (their weight gradient is never needed).
#   llama: pre-RMSNorm. Per layer, mixed: residual input 4h + normalised input 4h (fp32, kept by the
#          norm's weight), three 16-bit casts for q, k, v 6h, q 2h and k, v 2kv each after RoPE,
#          attention output 2h (also o's input), second residual 4h + norm 4h, MLP input casts.
#   gpt:   GPT-2: LayerNorm keeps only its input; q, k, v come from one packed matmul (one cast).
#   bert:  post-LayerNorm encoder (BERT, RoBERTa, MiniLM): as gpt, norms after the residual add.
#   t5:    encoder layers (decoder layers add CROSS_ATTENTION below). The CPU count of T5 runs its
#          attention on PyTorch's math path (a float bias mask); the coefficients here are the CUDA
#          count, where the memory-efficient kernel takes the bias: not yet measured on a GPU.
LAYER_COEFFS: dict[str, dict[tuple[str, str], tuple[float, float]]] = {
    "llama": {
        ("full", "mixed"): (26, 4),
        ("full", "fp32"): (32, 8),
        ("frozen", "mixed"): (20, 4),
        ("frozen", "fp32"): (20, 8),
    },
    "gpt": {
        ("full", "mixed"): (18, 4),
        ("full", "fp32"): (32, 8),
        ("frozen", "mixed"): (16, 4),
        ("frozen", "fp32"): (28, 8),
    },
    "bert": {
        ("full", "mixed"): (18, 4),
        ("full", "fp32"): (24, 8),
        ("frozen", "mixed"): (16, 4),
        ("frozen", "fp32"): (20, 8),
    },
    "t5": {
        ("full", "mixed"): (26, 4),
        ("full", "fp32"): (24, 8),
        ("frozen", "mixed"): (20, 4),
        ("frozen", "fp32"): (14, 8),
    },
}
# Under full mixed precision each MLP input projection also keeps its own 16-bit cast of the
# normalised input: 2h per projection, 2 projections in a gated MLP (gate, up), 1 in a plain one.
# So Llama's measured 30h + 4kv is 26 + 4 (its two casts), GPT-2's and BERT's 24h is 18 + 4 + 2.
MLP_INPUT_CAST_BYTES = {("full", "mixed"): 2.0}
# MLP-width terms (bytes per token per layer, x i). Fused activations (silu, gelu, relu,
# gelu_pytorch_tanh) keep their input; gelu_new (GPT-2, T5 v1.1's "gated-gelu") is written as five
# element-wise operations, each keeping a tensor. Frozen down-projections keep no input: -2 (-4 fp32).
MLP_COEFFS = {
    (True, True): 8.0,  # gated, fused: gate out, silu out, up out, product
    (True, False): 14.0,  # gated, gelu_new
    (False, True): 4.0,  # plain, fused: act input + down's input
    (False, False): 10.0,  # plain, gelu_new
}
UNFUSED_ACTIVATIONS = ("gelu_new", "gelu_fast", "quick_gelu", "gelu_10")
FROZEN_DOWN_PROJECTION_SAVING = 2.0
# A decoder layer of an encoder-decoder adds cross-attention: per decoder token its norm, query and
# output (14h mixed, 16h fp32, ~10h frozen), and per *encoder* token the keys and values it computes
# from the encoder's output (8h: two 16-bit casts and two outputs; 4h on a frozen 16-bit base).
CROSS_ATTENTION = {
    ("full", "mixed"): (14.0, 8.0),
    ("full", "fp32"): (16.0, 8.0),
    ("frozen", "mixed"): (10.0, 4.0),
    ("frozen", "fp32"): (8.0, 8.0),
}
# Dropout on a GPU keeps a 1-byte mask per element (torch native_dropout): per layer, gpt and bert
# drop the attention and MLP outputs (2h), T5 also the MLP's inner activations (+1i), its decoder
# the cross-attention output (+1h). Llama-style models train without dropout.
DROPOUT_SITES = {"gpt": (2, 0), "bert": (2, 0), "t5": (2, 1), "llama": (0, 0)}
# With full recomputation (gradient checkpointing) each layer keeps only its input: the residual
# stream, fp32 under autocast with fp32 weights (4 bytes), 16-bit on a 16-bit base (Korthikanti et al.
# 2022, section 4.2; transformers checkpoints whole decoder layers).
CHECKPOINT_BYTES_PER_H = {"full": 4.0, "frozen": 2.0}
# The loss of a language-model head: transformers upcasts the logits to fp32; cross-entropy keeps the
# fp32 log-probabilities (4 bytes per vocabulary entry per token) and, at the start of the backward
# pass, adds their gradient and the logits' gradient (4 + 4): 12 bytes per logit at the peak,
# whatever the precision (counted, and matched by MemTracker within 1%). The final norm: ~12h.
LOGIT_PEAK_BYTES = 12.0
# Whatever the head, every token passes the model's last norm (pre-norm models: its fp32 input and
# output and a 16-bit cast, ~12h) or, in post-norm encoders, the embeddings' LayerNorm (~6h).
FINAL_NORM_BYTES_PER_H = {"bert": 6.0}
FINAL_NORM_DEFAULT = 12.0

# --- Framework overhead ------------------------------------------------------------------------------
# The CUDA context, cuBLAS workspaces and kernels take memory before any tensor (invisible to
# torch.cuda.memory_allocated): gpus.yaml `cuda_context_gib`, measured 0.75 GiB on H100/H200 (torch
# 2.11, CUDA 13). It is why a 22M-parameter model "needs" about 1 GiB. PyTorch's caching allocator
# reserves more than it hands out (block rounding, fragmentation): measured reserved/allocated
# 1.03-1.11 in training (bench/results/calculator_h100.md) and 1.43 for inference, whose transient
# buffers change size layer by layer.
SLACK_SHARE = {"training": 0.06, "inference": 0.35}
# DistributedDataParallel keeps its own flat buffers of the gradients for the all-reduce (PyTorch DDP
# docs: gradient_as_bucket_view=False, the default, costs "the total gradients size" extra).
DDP_BUCKET_BYTES = GRADIENT_BYTES


def is_frozen_base(job: ModelJob) -> bool:
    return job.method in ("lora", "qlora")


def _variant(job: ModelJob) -> tuple[str, str]:
    trained = "frozen" if is_frozen_base(job) else "full"
    precision = "fp32" if job.precision == "fp32" and job.method != "qlora" else "mixed"
    return trained, precision


def activation_bytes_per_token(arch: Architecture, job: ModelJob, decoder: bool = False) -> float:
    """Bytes one layer saves for the backward pass, per token it processes (see LAYER_COEFFS)."""
    variant = _variant(job)
    ch, ckv = LAYER_COEFFS[arch.recipe][variant]
    gated = arch.gated_mlp
    fused = (arch.activation or "").lower() not in UNFUSED_ACTIVATIONS
    ci = MLP_COEFFS[(gated, fused)] * (2.0 if variant[1] == "fp32" else 1.0)
    if variant[0] == "frozen":
        ci -= FROZEN_DOWN_PROJECTION_SAVING * (2.0 if variant[1] == "fp32" else 1.0)
    ch += MLP_INPUT_CAST_BYTES.get(variant, 0.0) * (2 if gated else 1)
    per_token = ch * arch.hidden + ckv * arch.kv_width + ci * arch.mlp_width
    if decoder:
        per_token += CROSS_ATTENTION[variant][0] * arch.hidden
    if arch.dropout > 0:
        sites_h, sites_i = DROPOUT_SITES.get(arch.recipe, (0, 0))
        per_token += (sites_h + (1 if decoder else 0)) * arch.hidden + sites_i * arch.mlp_width
    if job.method in ("lora", "qlora"):
        # Each adapter keeps its rank-wide intermediate (x·A) for B's gradient: ~3 bytes x rank.
        per_token += 3.0 * job.lora_rank * len(LORA_TARGETS_PER_LAYER)
    return per_token


def _tokens(job: ModelJob) -> tuple[int, int]:
    """(encoder-or-only tokens, decoder tokens) in one micro-batch on one GPU."""
    source = job.batch_size * job.sequence_length
    target = job.batch_size * (job.target_length or job.sequence_length)
    return source, target


def task_of(job: ModelJob) -> str:
    """The job's task; an unvalidated job without one gets its model kind's usual task."""
    return job.task or default_task(job.architecture)


def has_lm_head(job: ModelJob) -> bool:
    return task_of(job) in ("causal-lm", "masked-lm", "seq2seq")


def matmul_parameters(job: ModelJob, arch: Architecture) -> float:
    """Parameters that multiply: all but the input embedding (a lookup); a tied output layer does multiply."""
    n = float(job.parameters)
    lookup = arch.vocab * arch.hidden
    if arch.tied_embeddings and has_lm_head(job):
        lookup = 0
    return max(0.1 * n, n - lookup)


def lora_adapter_parameters(arch: Architecture, rank: int) -> int:
    """Trainable LoRA parameters on q, k, v, o of every layer: r·(d_in + d_out) per matrix (Hu et al. 2021).

    With grouped-query attention, k and v project to kv_heads·head_dim instead of hidden. The
    decoder layers of an encoder-decoder also adapt their cross-attention's q, k, v, o.
    """
    h, kv = arch.hidden, arch.kv_width
    per_layer = rank * ((h + h) + (h + kv) + (h + kv) + (h + h))
    cross = rank * 4 * (h + h) * arch.decoder_layers
    return per_layer * arch.total_layers + cross


def _layer_parameters(arch: Architecture) -> float:
    """Weights of one transformer layer: attention (q, o: h²; k, v: h·kv) and the MLP (2 or 3 matrices)."""
    h = arch.hidden
    return 2 * h * h + 2 * h * arch.kv_width + (3 if arch.gated_mlp else 2) * h * arch.mlp_width


def _head_bytes(job: ModelJob, arch: Architecture) -> tuple[float, float]:
    """(activation bytes at the loss's peak, gradient bytes of a trainable output layer) per micro-batch."""
    source, target = _tokens(job)
    task = task_of(job)
    norm = FINAL_NORM_BYTES_PER_H.get(arch.recipe, FINAL_NORM_DEFAULT) * arch.hidden
    tokens = target if task == "seq2seq" else source
    if task == "classification":
        return LOGIT_PEAK_BYTES * job.num_labels * job.batch_size + norm * tokens, 0.0
    per_token = LOGIT_PEAK_BYTES * arch.vocab + norm
    head_gradient = 0.0
    if job.method == "full":
        head_gradient = GRADIENT_BYTES * arch.vocab * arch.hidden
    return per_token * tokens, head_gradient


def _stack_activations(job: ModelJob, arch: Architecture) -> tuple[float, float, float]:
    """(all layers' saved activations, one layer's (the largest), checkpointed inputs), per micro-batch."""
    source, target = _tokens(job)
    encoder_layer = activation_bytes_per_token(arch, job) * source
    if arch.kind != "encoder-decoder":
        kept = CHECKPOINT_BYTES_PER_H[_variant(job)[0]] * arch.hidden * source
        return encoder_layer * arch.layers, encoder_layer, kept * arch.layers
    decoder_layer = (
        activation_bytes_per_token(arch, job, decoder=True) * target
        + CROSS_ATTENTION[_variant(job)][1] * arch.hidden * source
    )
    kept_per_h = CHECKPOINT_BYTES_PER_H[_variant(job)[0]] * arch.hidden
    total = encoder_layer * arch.layers + decoder_layer * arch.decoder_layers
    kept = kept_per_h * (source * arch.layers + target * arch.decoder_layers)
    return total, max(encoder_layer, decoder_layer), kept


def _inference_activations(job: ModelJob, arch: Architecture) -> float:
    """A forward pass keeps nothing for backward: the KV cache transformers returns, one layer's
    transient tensors, and the logits (16-bit, or fp32)."""
    source, target = _tokens(job)
    value_bytes = 4.0 if job.precision == "fp32" else 2.0
    h, kv, i = arch.hidden, arch.kv_width, arch.mlp_width
    tokens = max(source, target)
    transient = (2 * h + 2 * kv + 3 * i) * value_bytes * tokens
    cache = 0.0
    task = task_of(job)
    if task == "causal-lm":
        cache = 2 * arch.layers * kv * value_bytes * source
    elif task == "seq2seq":
        cache = 2 * arch.decoder_layers * kv * value_bytes * (source + target)
    logits = 0.0
    if has_lm_head(job):
        logits = arch.vocab * value_bytes * (target if task == "seq2seq" else source)
    return transient + cache + logits


def memory_breakdown(job: ModelJob, arch: Architecture | None = None) -> MemoryBreakdown:
    """Peak GPU memory of ``job`` on one GPU, by part (GiB); see the constants above for each formula.

    ``job`` must be validated (its task chosen): use :func:`demos.calculator.estimate.estimate`, or
    call ``jobs.validate_model_job`` first.
    """
    arch = arch or architecture_of(job)
    gpu = tables.gpu(job.gpu)
    n = float(job.parameters)
    shards = job.gpus if (job.gpus > 1 and job.parallelism == "fsdp") else 1

    weights = copies = gradients = optimizer = adapters = 0.0
    frozen = is_frozen_base(job) or job.method == "inference"
    if not frozen:
        weights = n * FULL_WEIGHT_BYTES
        gradients = n * GRADIENT_BYTES
        optimizer = n * OPTIMIZER_BYTES[job.optimizer]
        if job.precision == "mixed":
            copies = WEIGHT_COPY_BYTES * matmul_parameters(job, arch)
    else:
        base_precision = "4bit" if job.method == "qlora" else job.precision
        if base_precision in ("int8", "4bit"):
            # bitsandbytes leaves the embeddings (and an untied output layer) in 16 bits.
            embedding = min(float(arch.embedding_parameters), n)
            weights = (n - embedding) * FROZEN_WEIGHT_BYTES[base_precision] + embedding * 2.0
        else:
            weights = n * FROZEN_WEIGHT_BYTES[base_precision]
        if job.method in ("lora", "qlora"):
            adapters = lora_adapter_parameters(arch, job.lora_rank) * (
                ADAPTER_BYTES_BEFORE_OPTIMIZER + OPTIMIZER_BYTES[job.optimizer]
            )

    if shards > 1:
        # FSDP / ZeRO-3: each GPU keeps 1/n of the weights, gradients and optimizer states, and
        # gathers whole layers as it reaches them: the current and the prefetched next one, in 16 bits
        # with their fp32 gradients before they are reduce-scattered (~8 bytes per layer parameter).
        working = 8.0 * _layer_parameters(arch)
        weights, gradients, optimizer, adapters = (
            weights / shards + working,
            gradients / shards,
            optimizer / shards,
            adapters / shards,
        )
        copies = 0.0  # gathered 16-bit layers are freed after use, not kept for the backward pass
    buckets = 0.0
    if shards == 1 and job.gpus > 1 and job.method != "inference":
        trainable = lora_adapter_parameters(arch, job.lora_rank) if frozen else n
        buckets = trainable * DDP_BUCKET_BYTES

    if job.method == "inference":
        activations = _inference_activations(job, arch)
        peak_at = "during the forward pass"
        gradients_at_peak = 0.0
        copies = 0.0
    else:
        layers_total, one_layer, kept = _stack_activations(job, arch)
        head, head_gradient = _head_bytes(job, arch)
        one_layer_copies = copies / max(1, arch.total_layers) if copies else 0.0
        if job.gradient_checkpointing:
            head_copies = WEIGHT_COPY_BYTES * arch.vocab * arch.hidden if copies else 0.0
            # The loss's tensors are freed before the last layer is recomputed: one or the other.
            loss_first = head + head_copies
            layer_next = one_layer + one_layer_copies
            forward_end = (
                kept + head_gradient + max(loss_first, layer_next),
                head_copies if loss_first >= layer_next else one_layer_copies,
            )
            backward_end = (gradients + one_layer + one_layer_copies, one_layer_copies)
        else:
            forward_end = (layers_total + head + head_gradient + copies, copies)
            backward_end = (gradients, 0.0)
        if forward_end[0] >= backward_end[0]:
            activations = forward_end[0] - forward_end[1] - head_gradient
            copies = forward_end[1]
            gradients_at_peak = head_gradient
            peak_at = "at the end of the forward pass (the gradients do not exist yet)"
        else:
            copies = backward_end[1]
            activations = backward_end[0] - gradients - copies
            gradients_at_peak = gradients
            peak_at = "at the end of the backward pass (the activations are freed by then)"
        gradients_at_peak += buckets
    modelled = weights + copies + gradients_at_peak + optimizer + adapters + activations
    slack_share = SLACK_SHARE["inference" if job.method == "inference" else "training"]
    context = gpu.cuda_context_gib * GIB
    overhead = context + slack_share * modelled
    return MemoryBreakdown(
        weights=weights / GIB,
        gradients=gradients_at_peak / GIB,
        optimizer=optimizer / GIB,
        adapters=adapters / GIB,
        activations=activations / GIB,
        overhead=overhead / GIB,
        weight_copies=copies / GIB,
        cuda_context=context / GIB,
        peak_at=peak_at,
    )


def verdict(total_gib: float, usable_gib: float) -> str:
    """ "fits" under 90% of usable memory, "tight" up to 100%, else "does not fit"."""
    ratio = total_gib / usable_gib
    if ratio <= FITS_BELOW:
        return "fits"
    if ratio <= TIGHT_BELOW:
        return "tight"
    return "does not fit"


# Verdict thresholds on total / usable memory.
FITS_BELOW = 0.90
TIGHT_BELOW = 1.00
