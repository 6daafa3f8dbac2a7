"""Datasets several exercises share, built offline and read in the grader zone.

mnist.py   the MNIST split (public train/test, secret hidden set) and the scorers' cached views of it
"""
