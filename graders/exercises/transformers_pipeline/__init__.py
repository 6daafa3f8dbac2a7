"""transformers_pipeline — Hugging Face pipeline('sentiment-analysis') and small functions around it.

scorer.py    the graded cells: the pipeline's output structure, labels, accuracy on hidden reviews,
             the positive ratio and the confidence filter, run on hidden reviews in the sandbox
students.py  the reference and the simulated students
messages.py  its hints
assets.py    the course's offline sentiment model (fine-tuned MiniLM) and the hidden reviews (data/)
Student side: public/dlcourse/exercises/transformers_pipeline/.
"""
KIND = "exercise"
