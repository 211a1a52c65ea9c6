"""The chapters of the Restate docs' "Tour of Agents with Google ADK", on ``integrations.google_adk``.

One module per chapter, named as in restatedev/ai-examples ``google-adk/tour-of-agents/app/``; the
shared models, tools and the run-an-agent helper are in ``utils``, the remote specialist agents in
``specialists``. ``agents/adk_tour/app.py`` serves them all.
"""
