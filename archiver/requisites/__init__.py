"""Page requisites: what a page needs to render (stylesheets, scripts, fonts, displayed images,
the favicon), archived beside it so that the archive replays the page as it looked.

``scan`` finds them (framework-free), ``policy`` decides which are fetched, ``store`` remembers
them between runs (conditional requests, revisit records), ``middleware`` runs them in a crawl.
See docs/replay.md.
"""
