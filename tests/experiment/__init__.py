"""Tests of the end-to-end experiment (judgeaudit run)."""
