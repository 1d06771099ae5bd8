"""The dashboard and reports: delivery, failures, opt-outs, spend and automation funnels, read
from the rooms below (the top room: it may use every other one)."""
