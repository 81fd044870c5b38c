import './components/centralStation.js';

document.body.append(document.createElement('ecg-central-station'));
