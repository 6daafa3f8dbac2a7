"""fastai_transfer — transfer learning with fastai: a course-pretrained body fine-tuned on new digits.

scorer.py    the graded cells: DataLoaders from file names, vision_learner on the pretrained body,
             fine_tune's frozen phase, hidden accuracy measured by the grader
students.py  the reference and the simulated students
messages.py  its hints
assets.py    the offline assets it needs: the Pets-like digit folder and the pretrained body
Student side: public/dlcourse/exercises/fastai_transfer/ (with the DigitBody model).
"""
KIND = "exercise"
