"""The app's lighter Gradio import: no component stub writing, no IPython, and Gradio still builds and runs an app."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
from app.__main__ import lighten_gradio_import
lighten_gradio_import()
import gradio as gr
import gradio.component_meta as meta
with gr.Blocks() as demo:
    box = gr.Textbox()
    gr.Button().click(lambda s: s + "!", box, box)
stub_writer = meta.create_or_modify_pyi.__code__.co_filename  # the no-op is defined in app/__main__.py
print(stub_writer != meta.__file__, sys.modules.get("IPython") is None,
      type(box).__name__, demo.fns[0].fn("a"))
"""


def test_gradio_imports_without_stub_writing_or_ipython():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split() == ["True", "True", "Textbox", "a!"]


def test_a_process_that_already_has_gradio_is_left_alone():
    done = subprocess.run([sys.executable, "-c", "import sys, gradio; from app.__main__ import lighten_gradio_import;"
                           "n = len(sys.meta_path); lighten_gradio_import(); print(len(sys.meta_path) == n)"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.stdout.strip() == "True", done.stderr[-500:]
