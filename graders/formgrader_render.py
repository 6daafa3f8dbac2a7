"""formgrader's submission page, rendered off the staff server's event loop (a Jupyter server extension).

nbgrader's formgrader turns a graded notebook into its page inside the request handler, on the
server's one event loop: while one page renders, every other request of the staff server (formgrader,
JupyterLab, kernels) waits.  What is rendered is bounded (graders/feedback.py, RenderBudget, in front of
formgrader's exporter), and this extension moves the rendering itself onto one worker thread, so a
slow page delays only itself.  One thread: the exporter and its preprocessors keep state per render.

`python -m graders lab` (staff) turns it on with --ServerApp.jpserver_extensions.  The route of
nbgrader's SubmissionHandler is answered by ours, placed ahead of nbgrader's routes.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

_RENDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlcourse-formgrader-render")


def _jupyter_server_extension_points():
    return [{"module": "graders.formgrader_render"}]


def _handler_class():
    from nbgrader.api import MissingEntry
    from nbgrader.server_extensions.formgrader.base import check_notebook_dir, check_xsrf
    from nbgrader.server_extensions.formgrader.handlers import SubmissionHandler
    from tornado import web
    from tornado.ioloop import IOLoop

    class ThreadedSubmissionHandler(SubmissionHandler):
        """nbgrader's page of one graded notebook; the notebook is rendered on the render thread."""

        @web.authenticated
        @check_xsrf
        @check_notebook_dir
        async def get(self, submission_id):
            try:
                found = self.gradebook.find_submission_notebook_by_id(submission_id)
                assignment, notebook, student = found.assignment.assignment.name, found.notebook.name, found.student.id
            except MissingEntry:
                raise web.HTTPError(404, f"Invalid submission: {submission_id}")
            if os.path.split(self.request.path)[1] == submission_id:      # the page's links need the slash
                target = self.request.path + "/" + ("?" + self.request.query if self.request.query else "")
                return self.redirect(target, permanent=True)
            folder = self.coursedir.format_path(self.coursedir.autograded_directory, student, assignment)
            path = os.path.join(os.path.abspath(folder), f"{notebook}.ipynb")
            order = self.api.get_notebook_submission_indices(assignment, notebook)
            resources = {
                "assignment_id": assignment, "notebook_id": notebook, "submission_id": found.id,
                "index": order.get(found.id, -2), "total": len(order), "base_url": self.base_url,
                "student": student, "last_name": found.student.last_name, "first_name": found.student.first_name,
                "notebook_path": self.url_prefix + "/" + os.path.relpath(path, self.coursedir.root),
            }
            if not os.path.exists(path):
                resources["filename"] = path
                page = self.render("formgrade_404.tpl", resources=resources)
                self.clear()
                self.set_status(404)
                self.write(page)
                return
            exporter = self.exporter
            page, _ = await IOLoop.current().run_in_executor(
                _RENDER, lambda: exporter.from_filename(path, resources=resources))
            self.write(page)

    return ThreadedSubmissionHandler


def _load_jupyter_server_extension(serverapp):
    from jupyter_server.utils import url_path_join
    from tornado.routing import HostMatches, Rule
    from tornado.web import _ApplicationRouter

    app = serverapp.web_app
    pattern = url_path_join(app.settings["base_url"], r"/formgrader/submissions/([^/]+)/?")
    # ahead of every other route (nbgrader's own SubmissionHandler included), whatever the load order
    app.default_router.rules.insert(0, Rule(HostMatches(".*$"), _ApplicationRouter(app, [(pattern, _handler_class())])))
    serverapp.log.info("dlcourse: formgrader pages render off the event loop")


load_jupyter_server_extension = _load_jupyter_server_extension
