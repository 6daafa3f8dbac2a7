"""Grade on submit: `python -m graders watch` (make watch), a long-running service per course.

    exchange inbound / LMS drop folder ──notice──▶ durable queue (gradebook DB, queue.py)
        ──newest wins, rate limit, round robin──▶ collect that one entry (intake, hardened)
        ──▶ a grader process of the farm (autograde's, sandboxed; Dask with a scheduler)
        ──▶ feedback as VISIBILITY allows now ──▶ nbgrader release_feedback ──▶ the student's
        Nbgrader ▸ Assignment List ▸ Fetch Feedback

* Newest wins: a submission still waiting when a newer one of the same student and assignment
  arrives is marked superseded and never graded; one student's assignment is never graded twice at
  once, so an older grading never lands after a newer one.
* Fair: at most WATCH['max_per_hour'] gradings per student and assignment in any hour (a waiting
  submission's feedback slot says why and until when); among the waiting, the student served
  longest ago goes first.  The submission time is the exchange's, so a submission handed in before
  the due date is on time however long it waits.
* Nothing lost: every submission is a row before anything else happens; kill -9 leaves rows
  `grading`, which the next start grades again (each graded to the end once); a grader process that
  dies is replaced and its submission tried again (3 times at most).
* One per course: an exclusive lock (lock.py), and a heartbeat row for services on other hosts.
* When results open (the due date of an `after_due` check), graded submissions get their feedback
  made again and released, without grading again.
"""
