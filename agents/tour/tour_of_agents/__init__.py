"""The Tour of Agents' ``app/`` package: one module per chapter, as in the Restate docs.

The tour calls this package ``app``; here it is ``tour_of_agents`` so it cannot collide with
anything else on the path (``agents/tour/app.py`` loads it by file path, see there).
"""
