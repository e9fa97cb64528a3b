"""Interactive tools of the course Space. Each subpackage keeps pure logic apart from its Gradio builder."""
