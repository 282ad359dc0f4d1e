"""A project's life, once, for the GUI and the CLI: see `backend.workflow.session.Workflow`.

Modules: `session` (the Workflow: new/open/save, data and settings as undoable commands,
train, continue, evaluate, predict, export, the script), `training` (TrainingJob: one run,
built and trained in the calling thread, thread-safe stop/pause), `weights` (which weights are
current and whether the graph still fits them), `graph_changes` (what an edit changed, in
words), `lineage` (which run continued which, can a run continue), `model_use` (the model with
its current weights: build, evaluate, predict, export with check samples that fit).
"""
