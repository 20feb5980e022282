//! Placer simulator.
