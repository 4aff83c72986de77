"""The confidence maths and the results it builds: pure Python, no pytest, openai or vcr."""
