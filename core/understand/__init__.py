"""Reading a cadre's free text: dates, households, how the contact happened, what else it says.

Pure functions over a message, the cadre's household names and today's date: no storage, no
chat SDK, so the chat, the guided steps and `bangfu parse` share one code path.
"""
