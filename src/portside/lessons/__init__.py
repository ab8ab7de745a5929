"""Layer 9, lessons: the demo apps and helpers particular lessons use (myapp, the Python demo app, tagging, quiz,
lesson 06's distribution helpers and its stand-in for Docker Hub's rate limits, lesson 07's team project), and every
lesson as slides (``slides``: the slide rule, ``portside present``)."""
