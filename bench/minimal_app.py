"""The floor for start-up time: a one-textbox Gradio app, launched like the course app."""

import os

import gradio as gr

with gr.Blocks() as demo:
    gr.Textbox(label="Say something")

demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"), ssr_mode=False)
