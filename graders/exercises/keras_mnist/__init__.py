"""keras_mnist — a Keras MLP on MNIST: define, compile, fit and evaluate (TensorFlow/Keras).

scorer.py    the graded cells: layers by meaning, compile settings, a trained model measured by the
             grader on hidden digits, the reported test accuracy
students.py  the reference and one simulated student per typical mistake
messages.py  its hints (the layer stack, compile arguments, training)
Student side: public/dlcourse/exercises/keras_mnist/ (self-checks, the export of the saved model).
"""
KIND = "exercise"
