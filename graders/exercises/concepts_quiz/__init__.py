"""concepts_quiz — the concept quiz: machine learning vs deep learning, and the four frameworks.

A quiz has no scorer file: its bank (source/concepts_quiz/quiz_bank.yaml) is its scorer, one graded
cell per question (graders/quiz).
concepts.py  the lesson's concepts every question bank must cover (CONCEPTS)
students.py  the simulated class: what each student types on their own paper
"""
KIND = "quiz"
