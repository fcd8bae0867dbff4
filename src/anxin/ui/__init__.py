"""The console's toolkit, shared by every domain's pages: one Jinja environment per app, the
labels in Chinese and English, the page decorator and the session-to-principal step.

A shared layer like `people`: it imports only `core` and `people`; domains import it for their
pages; `web` (the shell: login, home, navigation, static files) builds on it.
"""
