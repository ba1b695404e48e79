"""The book's tooling, run from the repository root as ``python -m tools.NAME``.

- ``execute_notebooks``: re-run notebooks in place (``make execute``)
- ``student_edition``: the student edition, HTML and notebooks (``make student``)
- ``vendor_assets``: MathJax, require.js and the widget manager for offline pages (``make book``)
- ``notebook_chrome``: a chapter's Colab cell, run-time line and figure checks
- ``code_budget``: visible code lines per chapter (``make code-budget``)
"""
