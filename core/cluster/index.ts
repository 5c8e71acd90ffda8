/** Task clustering: k-means and spectral clustering, k by silhouette, centroids and labels. */
export { cosineSimilarity, dot, inertiaOf, kmeans, nearestCentroid, normalise, squaredDistance, type KMeansOptions, type KMeansResult, type Vectors } from './kmeans';
export { spectralClustering, centroidsOf, SPECTRAL_MAX_POINTS, type SpectralOptions } from './spectral';
export { chooseK, cluster, type ChooseKOptions, type ChosenClustering, type ClusteringAlgorithm } from './choose-k';
export { cosineSilhouette } from './silhouette';
export { clusterLabels, terms } from './labels';
export { adjustedRandIndex } from './ari';
export { tasksFromDataset, type ExtractedTasks } from './tasks';
export { clusterTaskVectors, vectorRows, type ClusteredTasks } from './task-clusters';
export { assemblePerfIndex, perfIndexTable, perfIndexVersion, PerfIndexRegistry, type PerfIndexEntry, type PerfIndexParts } from './perf-index';
