"""The training-loop lab: run the five-step PyTorch loop live, break it on purpose, fix it.

Logic modules (no Gradio): ``loop_config`` (validated settings), ``script`` (the generated
training script), ``runner`` (executes that script and streams frames), ``failures`` (the
short texts tied to each failure), ``autograd_panel`` (tiny expressions and their gradients).
The Gradio builder is ``ui.build``.
"""
